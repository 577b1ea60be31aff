"""SQLCipher storage: keys, connection, migrations, repositories, audit chain, blobs."""
