/* vs-policy.c - to be implemented */
#include "config.h"
