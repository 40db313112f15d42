/* The agent API handlers (proto/agent.proto), served over ttrpc. */
#ifndef HUSK_AGENT_RPC_H
#define HUSK_AGENT_RPC_H

#include <stddef.h>

#include "ttrpc/ttrpc.h"

/*
 * The methods of service husk.agent.v1.Agent; the server's data is a struct
 * rpc_scope (agent.h). The agent port serves rpc_methods; the debug console
 * port rpc_debug_methods, the execs of the debug console's container.
 */
extern const struct ttrpc_method rpc_methods[];
extern const size_t rpc_nmethods;
extern const struct ttrpc_method rpc_debug_methods[];
extern const size_t rpc_debug_nmethods;

#endif
