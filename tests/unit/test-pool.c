/* test-pool.c - to be written */
#include <check.h>
#include <stdlib.h>
int main(void) { return EXIT_SUCCESS; }
