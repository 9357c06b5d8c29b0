@(context.Request.Headers.GetValueOrDefault("X-Tier", "free").Length > 3)
