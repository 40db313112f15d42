/*
 * Traffic control for a tc redirect between two links: an ingress qdisc on each and a u32
 * filter matching every frame with a mirred action that sends it out of the other link. u32,
 * not matchall: some host kernels lack cls_matchall.
 */
#ifndef HUSK_NETLINK_TC_H
#define HUSK_NETLINK_TC_H

#include "lib/error.h"
#include "nlmsg.h"

int nl_tc_ingress_add(struct nl_sock *s, unsigned index, husk_err *err);
/* Deleting the qdisc deletes its filters. */
int nl_tc_ingress_del(struct nl_sock *s, unsigned index, husk_err *err);
/* Every frame arriving on from leaves through to (from needs its ingress qdisc). */
int nl_tc_redirect_add(struct nl_sock *s, unsigned from, unsigned to, husk_err *err);

#endif
