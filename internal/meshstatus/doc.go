// Package meshstatus gathers and prints `jetmon mesh status`: who leads and
// with which epoch, the live nodes by role and region, the bucket assignment
// table, buckets without an owner, and the results backlog. It reads NATS
// only (and the fencing epoch through a function the caller passes).
package meshstatus
