// Runs before any test module is loaded: keep Powertools quiet and the SDK off the network.
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.AWS_REGION = process.env.AWS_REGION || 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'test';
process.env.AWS_SECRET_ACCESS_KEY = 'test';
