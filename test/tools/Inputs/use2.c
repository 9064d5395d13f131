#include "shared.h"
int use2(void) { return same(2); }
