#!/usr/bin/env pwsh
# Build tasks for MapReduce.NET. Run with `dotnet tool restore; dotnet pwsh build.ps1 <task>`.
#   build  - compile everything (Release)
#   test   - run unit and integration tests (the same command as README.md and CI)
#   demo   - word count on the sample books in local mode, output in out/wordcount
#   bench  - speed benchmark (docs/speed.md); extra arguments go to it, e.g. `bench --size 1GB`
#   pack   - the MapReduce.Sdk package (what a job project references) into artifacts/packages
param(
    [Parameter(Position = 0)]
    [ValidateSet('build', 'test', 'demo', 'bench', 'pack')]
    [string]$Task = 'build',
    [Parameter(ValueFromRemainingArguments = $true)]
    [string[]]$Rest = @()
)
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot

function Invoke-Step([string]$Command, [string[]]$Arguments) {
    Write-Host "> $Command $($Arguments -join ' ')"
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Command failed with exit code $LASTEXITCODE" }
}

switch ($Task) {
    'build' { Invoke-Step dotnet @('build', 'MapReduce.sln', '-c', 'Release') }
    'test' { Invoke-Step dotnet @('test', 'MapReduce.sln', '-c', 'Release') }
    'demo' {
        Invoke-Step dotnet @('run', '--project', 'src/MapReduce.Submit', '-c', 'Release', '--',
            '-d', 'samples/data', '-c', 'samples/wordcount', '-o', 'out/wordcount')
    }
    'pack' { Invoke-Step dotnet @('pack', 'src/MapReduce.Sdk', '-c', 'Release', '-o', 'artifacts/packages') }
    'bench' {
        Invoke-Step dotnet (@('run', '--project', 'src/MapReduce.Submit', '-c', 'Release', '--', 'bench') + $Rest)
    }
}
