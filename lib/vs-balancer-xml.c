/* vs-balancer-xml.c - to be implemented */
#include "config.h"
