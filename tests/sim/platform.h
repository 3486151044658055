/* What the two platform files give the harness (plain C, no ENet types). */
#ifndef SIM_PLATFORM_H
#define SIM_PLATFORM_H
#include <stdint.h>
void sim_ours_platform_seed (uint64_t seed, uint32_t clockStart);
uint32_t sim_ours_platform_random (void);
void sim_ours_address (void * enetAddress, uint32_t ip, uint16_t port);
void sim_stock_platform_seed (uint64_t seed);
void sim_stock_address (void * enetAddress, uint32_t ip, uint16_t port);
#endif
