/* vs-status-parse.c - to be implemented */
#include "config.h"
