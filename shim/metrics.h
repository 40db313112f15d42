/* husk metrics: the gathering (metrics.c) and its HTTP front (metrics_http.c). */
#ifndef HUSK_METRICS_H
#define HUSK_METRICS_H

#include "lib/error.h"
#include "shim/lib/promtext.h"

/* The host's exposition: its own figures and every sandbox's, into t. */
int metrics_text(struct promtext *t, husk_err *err);
/* Serves metrics_text at http://ADDR/metrics (ADDR "[HOST:]PORT") until SIGINT or SIGTERM. */
int metrics_serve_http(const char *addr, husk_err *err);

#endif
