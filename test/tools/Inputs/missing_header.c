/* Includes a generated header that is not built yet: the unit does not compile. */
#include "gen_not_built.h"
int job_count(job_t *j) { return j != 0; }
