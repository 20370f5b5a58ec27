"""What goes out: price and stock rules, shop exports, the database mirror, change events."""
