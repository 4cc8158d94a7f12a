/* vs-pool.c - to be implemented */
#include "config.h"
