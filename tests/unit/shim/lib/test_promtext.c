/* The Prometheus text writer (shim/lib/promtext.h): families, samples, escaped labels, bound. */
#include "tests/unit/harness/test.h"

#include <stdlib.h>
#include <string.h>

#include "shim/lib/promtext.h"

TEST(families_and_samples_in_the_text_format)
{
	struct promtext t = {0};
	char l[PROMTEXT_LABELS_MAX] = "";
	CHECK(promtext_label(l, sizeof(l), "sandbox", "abc"));
	CHECK(promtext_label(l, sizeof(l), "process", "qemu"));
	promtext_family(&t, "husk_x_bytes", "gauge", "Some bytes.");
	promtext_u64(&t, "husk_x_bytes", l, 18446744073709551615ULL);
	promtext_f64(&t, "husk_y_seconds", "", 1.5);
	CHECK(!t.failed);
	CHECK_STR(t.buf, "# HELP husk_x_bytes Some bytes.\n# TYPE husk_x_bytes gauge\n"
	                 "husk_x_bytes{sandbox=\"abc\",process=\"qemu\"} 18446744073709551615\n"
	                 "husk_y_seconds 1.500000\n");
	promtext_free(&t);
}

TEST(label_values_are_escaped_and_bounded)
{
	char l[PROMTEXT_LABELS_MAX] = "";
	/* a pod name is the kubelet user's text */
	CHECK(promtext_label(l, sizeof(l), "pod_name", "a\"b\\c\nd"));
	CHECK(!strcmp(l, "pod_name=\"a\\\"b\\\\c\\nd\""));
	char small[16] = "";
	CHECK(!promtext_label(small, sizeof(small), "pod_name", "0123456789"));
	CHECK_STR(small, "");
	char *big = malloc(PROMTEXT_LABELS_MAX);
	CHECK(big);
	memset(big, '"', PROMTEXT_LABELS_MAX - 1);
	big[PROMTEXT_LABELS_MAX - 1] = '\0';
	l[0] = '\0';
	CHECK(promtext_label(l, sizeof(l), "sandbox", "x"));
	CHECK(!promtext_label(l, sizeof(l), "pod_name", big));
	CHECK(!strcmp(l, "sandbox=\"x\"")); /* what did not fit is not half there */
	free(big);
}

TEST(the_text_is_bounded)
{
	struct promtext t = {0};
	char line[1024];
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	for (int i = 0; i < 2 * PROMTEXT_MAX / 1024 && !t.failed; i++)
		promtext_raw(&t, line, strlen(line));
	CHECK(t.failed);
	CHECK_INT(t.len, <, PROMTEXT_MAX);
	promtext_free(&t);
}
