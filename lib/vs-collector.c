/* vs-collector.c - to be implemented */
#include "config.h"
