/* vs-config.c - to be implemented */
#include "config.h"
