# unit tests of oci/
UNIT_TESTS += test_hooks test_limits
test_hooks_SRCS := tests/unit/oci/test_hooks.c oci/hooks.c oci/specjson.c $(LIB_JSON_SRCS) \
	$(LIB_SRCS)
test_hooks_LIBS := -ljson-c
# the contract both sides enforce: every limit through the host's bundle check and the agent's
# request decode
test_limits_SRCS := tests/unit/oci/test_limits.c agent/request.c $(BUNDLE_SRCS) $(PROTO_SRCS) \
	$(LIB_SRCS)
test_limits_LIBS := $(PROTOBUF_LIBS) $(OCI_LIBS)
