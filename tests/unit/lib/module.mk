# unit tests of lib/
UNIT_TESTS += test_common test_sha256 test_proc test_json test_fs test_text test_token
test_common_SRCS := tests/unit/lib/test_common.c $(LIB_SRCS)
test_sha256_SRCS := tests/unit/lib/test_sha256.c $(LIB_SRCS)
test_proc_SRCS := tests/unit/lib/test_proc.c $(LIB_SRCS)
test_json_SRCS := tests/unit/lib/test_json.c $(LIB_SRCS) $(LIB_JSON_SRCS)
test_json_LIBS := -ljson-c
test_fs_SRCS := tests/unit/lib/test_fs.c $(LIB_SRCS)
test_text_SRCS := tests/unit/lib/test_text.c $(LIB_SRCS)
test_token_SRCS := tests/unit/lib/test_token.c $(LIB_SRCS)
