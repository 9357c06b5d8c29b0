@(new[] { 3, 1, 2 }.Where(x => x > 1).Select(x => x * 2).Sum())
