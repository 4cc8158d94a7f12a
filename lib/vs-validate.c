/* vs-validate.c - to be implemented */
#include "config.h"
