print("mmserver: not built yet")
