/* ttrpc framing, server and client: see ttrpc.h (implementation in progress) */
#include "ttrpc.h"
