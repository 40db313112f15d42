#include "guestlog.h"

#include <inttypes.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/text.h"

void guestlog_init(struct guestlog *g, const char *id)
{
	*g = (struct guestlog){.id = id, .rl = RATE_LIMIT_INIT(1000, GUESTLOG_BURST)};
}

/*
 * The level of an agent line, "husk-agent: warn: msg" or, at debug, "husk-agent[7] 1.5
 * debug: msg": the word before its first or second colon. *msg is what follows it.
 */
static const char *agent_level(const char *line, enum husk_log_level *level, const char **msg)
{
	static const char *const names[] = {"husk-agent", "husk modprobe"};
	const char *who = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strncmp(line, names[i], strlen(names[i])) == 0)
			who = names[i];
	if (!who)
		return NULL;
	const char *colon = line;
	for (int i = 0; i < 2 && (colon = strstr(colon, ": ")); i++, colon += 2) {
		const char *word = colon;
		while (word > line && word[-1] != ' ')
			word--;
		char name[8];
		size_t n = (size_t)(colon - word);
		if (n >= sizeof(name))
			continue;
		memcpy(name, word, n);
		name[n] = '\0';
		if (log_parse_level(name, level) == 0) {
			*msg = colon + 2;
			return who;
		}
	}
	return NULL;
}

/* Logs the line in g->line (NUL-terminated); cut: it went on past GUESTLOG_LINE_MAX. */
static void log_line(struct guestlog *g, bool cut, int64_t now_ms)
{
	enum husk_log_level level = LOG_LEVEL_INFO;
	const char *msg = g->line, *who = agent_level(g->line, &level, &msg);
	if (level > log_get_level() || !rate_limit_allow(&g->rl, now_ms))
		return;
	if (g->rl.suppressed) {
		log_warn("guest %s: %" PRIu64 " console lines not logged (more than %d a second)",
		         g->id, g->rl.suppressed, GUESTLOG_BURST);
		g->rl.suppressed = 0;
	}
	char esc[TEXT_ESCAPE_MAX];
	log_msg(level, "guest %s: %s: %s%s", g->id, who ? who : "console",
	        text_escape(esc, sizeof(esc), msg, g->len - (size_t)(msg - g->line)),
	        cut ? "..." : "");
}

void guestlog_feed(struct guestlog *g, const char *buf, size_t len, int64_t now_ms)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n') {
			if (g->len && g->line[g->len - 1] == '\r')
				g->len--;
			g->line[g->len] = '\0';
			if (!g->cut && g->len)
				log_line(g, false, now_ms);
			g->len = 0;
			g->cut = false;
		} else if (g->cut) {
			continue;
		} else if (g->len < sizeof(g->line) - 1) {
			g->line[g->len++] = buf[i];
		} else {
			/* what fits is logged now, the rest of the line dropped */
			g->line[g->len] = '\0';
			log_line(g, true, now_ms);
			g->cut = true;
		}
	}
}
