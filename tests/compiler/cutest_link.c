/* cutest_link.c — the shared CUnit runner, compiled into the riverc test
 * programs (tests/compiler is built before tests/libcutest.la). */
#include "../cutest.c"
