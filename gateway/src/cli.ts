console.log("hello from medlake cli", process.version)
