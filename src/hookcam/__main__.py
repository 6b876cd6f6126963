from hookcam.cli import main

raise SystemExit(main())
