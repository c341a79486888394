module lqexample

go 1.19
