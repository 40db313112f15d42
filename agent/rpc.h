/* The agent API handlers (proto/agent.proto), served over ttrpc. */
#ifndef HUSK_AGENT_RPC_H
#define HUSK_AGENT_RPC_H

#include <stddef.h>

#include "ttrpc/ttrpc.h"

/* The methods of service husk.agent.v1.Agent; the server's data is the struct agent. */
extern const struct ttrpc_method rpc_methods[];
extern const size_t rpc_nmethods;

#endif
