/*
 * cadence.h
 *		Settings shared across cadence's C files.
 */
#ifndef CADENCE_H
#define CADENCE_H

extern char *cadence_tenant_id;
extern char *cadence_user_id;

#endif							/* CADENCE_H */
