#include "tc.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/tc_act/tc_mirred.h>
#include <string.h>

#define INGRESS_HANDLE TC_H_MAKE(TC_H_INGRESS, 0) /* ffff: */
#define FILTER_PRIO    1

static void tc_msg(struct nl_msg *m, uint16_t type, uint16_t flags, unsigned index, uint32_t parent,
                   uint32_t handle, uint32_t info)
{
	nl_msg_init(m, type, flags);
	struct tcmsg *t = nl_msg_put(m, sizeof(*t));
	if (!t)
		return;
	t->tcm_family = AF_UNSPEC;
	t->tcm_ifindex = (int)index;
	t->tcm_parent = parent;
	t->tcm_handle = handle;
	t->tcm_info = info;
}

int nl_tc_ingress_add(struct nl_sock *s, unsigned index, husk_err *err)
{
	struct nl_msg m;
	tc_msg(&m, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, index, TC_H_INGRESS, INGRESS_HANDLE, 0);
	nl_msg_attr_str(&m, TCA_KIND, "ingress");
	return nl_request(s, &m, err);
}

int nl_tc_ingress_del(struct nl_sock *s, unsigned index, husk_err *err)
{
	struct nl_msg m;
	tc_msg(&m, RTM_DELQDISC, 0, index, TC_H_INGRESS, INGRESS_HANDLE, 0);
	return nl_request(s, &m, err);
}

/* mirred: egress redirect to the link, the frame stolen from its ingress path */
static void add_mirred(struct nl_msg *m, unsigned to)
{
	struct tc_mirred p = {.action = TC_ACT_STOLEN, .eaction = TCA_EGRESS_REDIR, .ifindex = to};
	nl_msg_nest_start(m, TCA_U32_ACT);
	nl_msg_nest_start(m, 1); /* the first action of the list */
	nl_msg_attr_str(m, TCA_ACT_KIND, "mirred");
	nl_msg_nest_start(m, TCA_ACT_OPTIONS);
	nl_msg_attr(m, TCA_MIRRED_PARMS, &p, sizeof(p));
	nl_msg_nest_end(m);
	nl_msg_nest_end(m);
	nl_msg_nest_end(m);
}

int nl_tc_redirect_add(struct nl_sock *s, unsigned from, unsigned to, husk_err *err)
{
	struct nl_msg m;
	/* "match u8 0 0": a selector with one key whose mask 0 every frame matches */
	struct tc_u32_sel sel = {.flags = TC_U32_TERMINAL, .nkeys = 1};
	struct tc_u32_key key = {0};
	uint8_t match[sizeof(sel) + sizeof(key)];
	memcpy(match, &sel, sizeof(sel));
	memcpy(match + sizeof(sel), &key, sizeof(key));
	tc_msg(&m, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, from, INGRESS_HANDLE, 0,
	       TC_H_MAKE((uint32_t)FILTER_PRIO << 16, htons(ETH_P_ALL)));
	nl_msg_attr_str(&m, TCA_KIND, "u32");
	nl_msg_nest_start(&m, TCA_OPTIONS);
	nl_msg_attr(&m, TCA_U32_SEL, &match, sizeof(match));
	add_mirred(&m, to);
	nl_msg_nest_end(&m);
	return nl_request(s, &m, err);
}
