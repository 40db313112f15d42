#include "addr_add.h"

#include <sys/socket.h>

int nl_addr_add(struct nl_sock *s, int index, const void *addr, size_t len, unsigned prefix,
                husk_err *err)
{
	struct nl_msg m;
	nl_msg_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
	struct ifaddrmsg *ifa = nl_msg_put(&m, sizeof(*ifa));
	if (ifa) {
		ifa->ifa_family = len == 4 ? AF_INET : AF_INET6;
		ifa->ifa_prefixlen = (unsigned char)prefix;
		ifa->ifa_flags = len == 4 ? 0 : IFA_F_NODAD;
		ifa->ifa_index = (unsigned)index;
	}
	nl_msg_attr(&m, IFA_LOCAL, addr, len);
	nl_msg_attr(&m, IFA_ADDRESS, addr, len);
	return nl_request(s, &m, err);
}
