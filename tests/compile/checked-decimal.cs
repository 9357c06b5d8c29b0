@((decimal)checked(1 + 2) / 3m)
