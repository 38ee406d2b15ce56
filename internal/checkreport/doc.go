// Package checkreport renders the outcome of one check (`jetmon check URL`):
// the operator's answer to "why does the monitor think my site is down?".
// [FromResult] turns an uptime.Result into a [Report] whose JSON field names
// are those of Jetmon's check history; [WriteText] prints it as aligned,
// sanitised lines for a terminal and [WriteJSON] as one JSON object.
//
// It imports only uptime and the standard library: no checking, no I/O
// beyond the io.Writer it is given.
package checkreport
