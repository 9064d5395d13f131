#include "shared.h"
int use1(void) { return same(1); }
