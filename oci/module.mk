# oci: the OCI runtime spec contract (the subset husk honours, with its limits in limits.h) and
# OCI hooks; the agent decodes its requests with it and the host checks bundles with it
# (with what it needs of lib: object lists are deduplicated at link time)
OCI_SRCS := oci/ocispec.c oci/ocispec_linux.c oci/specjson.c oci/hooks.c $(LIB_JSON_SRCS)
OCI_LIBS := -ljson-c -lseccomp
