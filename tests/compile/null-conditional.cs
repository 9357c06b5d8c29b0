@(context.Subscription?.Key ?? "anon")
