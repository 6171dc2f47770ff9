export async function runCoordinationBench(): Promise<void> {
  console.log("(no coordination benchmark yet)");
}
