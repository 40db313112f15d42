# oci: the OCI runtime spec contract (the subset husk honours, with its limits) and OCI hooks
OCI_HOOKS_SRCS := oci/hooks.c
OCI_SRCS := oci/ocispec.c oci/ocispec_linux.c $(OCI_HOOKS_SRCS)
OCI_LIBS := -ljson-c -lseccomp
