/* vs-sockdiag.c - to be implemented */
#include "config.h"
