/*
 * base/identity.h
 *		Who is calling: the tenant and user a session claims, and whether the
 *		claim is honoured (see base/identity.c).
 */
#ifndef CADENCE_BASE_IDENTITY_H
#define CADENCE_BASE_IDENTITY_H

typedef struct CadenceCaller
{
	const char *tenant_id;		/* the caller's tenant, NULL when none */
	const char *claimed_tenant; /* the tenant the session names, or NULL */
	const char *user_id;		/* the user the session names, or NULL */
	const char *role;			/* owner, admin or member of tenant_id, or
								 * NULL */
	bool		bypass;			/* the session's role bypasses row-level
								 * security: it may name any tenant */
} CadenceCaller;

/* The caller, valid until the next call. */
extern const CadenceCaller *cadence_caller(void);

/* The caller's tenant, palloc'd; error 42501 when it has none. */
extern char *cadence_caller_tenant(void);

/* Forget what is known of the caller when a transaction ends (_PG_init). */
extern void cadence_identity_init(void);

#endif							/* CADENCE_BASE_IDENTITY_H */
