"""The 叫应 drill (演练): every 责任人 and desk in a scope told through their real channels, marked 【演练】."""
