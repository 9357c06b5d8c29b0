@{
    int status;
    switch (context.Request.Method) {
        case "GET": status = 200; break;
        case "POST": status = 201; break;
        default: status = 405; break;
    }
    return status == 200 ? $"ok {status}" : "other";
}
