/* vs-notify.c - to be implemented */
#include "config.h"
