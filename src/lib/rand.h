/*
 * rand.h - random numbers from the kernel CSPRNG (getrandom), buffered.
 */
#ifndef STUBD_RAND_H
#define STUBD_RAND_H

#include <stdint.h>

uint16_t rand_u16(void);
uint64_t rand_u64(void);

#endif
