"""Staff and customer logins, roles, and the permission checks every data-changing service makes."""
