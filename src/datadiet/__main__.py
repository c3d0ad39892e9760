from datadiet.cli import main

main()
