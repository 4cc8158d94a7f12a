/* vs-domain.c - to be implemented */
#include "config.h"
