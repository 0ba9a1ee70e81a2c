"""The journal model (электронный классный журнал) and its import."""
