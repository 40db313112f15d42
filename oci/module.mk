# oci: the OCI runtime spec contract (the subset husk honours, with its limits in limits.h) and
# OCI hooks; the agent decodes its requests with it and the host checks bundles with it
OCI_SRCS := oci/ocispec.c oci/ocispec_linux.c oci/specjson.c oci/hooks.c
OCI_LIBS := -ljson-c -lseccomp
