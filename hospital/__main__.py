from hospital.cli import main

main()
