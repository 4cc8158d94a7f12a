/* vs-http.c - to be implemented */
#include "config.h"
