/* vs-status.c - to be implemented */
#include "config.h"
